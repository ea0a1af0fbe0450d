/* SPDX-License-Identifier: MIT */
/*
 * stack_view: a sample as the display names folded output, flame graphs and
 * the differential flame graph share: the profile's root labels (comm, pid,
 * tid...), then the frames, root first.
 */
#ifndef SCORCH_FORMATS_STACK_VIEW_H
#define SCORCH_FORMATS_STACK_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "formats/profile.h"

struct view_frame {
	const char *name; /* NUL-terminated, without suffix */
	uint32_t kind;	  /* enum frame_kind; FRAME_USER for label roots */
	int64_t frame_id; /* profile frame id, -1 for a root label */
};

/* Reusable buffer for the display names of one sample.  Embedded by value. */
struct stack_view {
	struct view_frame *frames;
	size_t n, cap;
	char numbuf[PROFILE_MAX_ROOTS][24]; /* numeric label values, formatted */
};

void stack_view_init(struct stack_view *v);
void stack_view_release(struct stack_view *v);
/* Fills v with the display frames of s, root first. 0 or -ENOMEM. */
int stack_view_fill(struct stack_view *v, const struct profile *p, const struct sample *s);
/* The display text of root label i of a sample with label set labels, or
 * NULL when the set lacks the key.  Numeric values are formatted into numbuf. */
const char *stack_view_root_text(const struct profile *p, uint32_t labels, uint32_t i, char numbuf[24]);
/* How many root labels the view shows (at most PROFILE_MAX_ROOTS). */
uint32_t stack_view_nroots(const struct profile *p);

#endif
