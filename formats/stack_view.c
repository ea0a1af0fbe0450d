/* SPDX-License-Identifier: MIT */
#include "stack_view.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"

const char *stack_view_root_text(const struct profile *p, uint32_t labels, uint32_t i, char numbuf[24])
{
	const struct profile_meta *m = profile_meta_const(p);
	const struct label *l = profile_label_find(p, labels, m->root_labels[i]);
	if (!l)
		return NULL;
	if (l->str)
		return profile_str(p, l->str);
	snprintf(numbuf, 24, "%" PRId64, l->num);
	return numbuf;
}

uint32_t stack_view_nroots(const struct profile *p)
{
	uint32_t n = profile_meta_const(p)->nroot_labels;
	return n < PROFILE_MAX_ROOTS ? n : PROFILE_MAX_ROOTS;
}

void stack_view_init(struct stack_view *v)
{
	memset(v, 0, sizeof(*v));
}

void stack_view_release(struct stack_view *v)
{
	free(v->frames);
	stack_view_init(v);
}

int stack_view_fill(struct stack_view *v, const struct profile *p, const struct sample *s)
{
	size_t need = (size_t)s->nframes + stack_view_nroots(p);

	int err = array_grow(&v->frames, &v->cap, need, sizeof(*v->frames));
	if (err)
		return err;
	v->n = 0;
	for (uint32_t i = 0; i < stack_view_nroots(p); i++) {
		const char *name = stack_view_root_text(p, s->labels, i, v->numbuf[i]);
		if (name)
			v->frames[v->n++] = (struct view_frame){name, FRAME_USER, -1};
	}
	for (uint32_t i = 0; i < s->nframes; i++) {
		const struct frame *f = profile_frame_get(p, s->frames[i]);
		v->frames[v->n++] = (struct view_frame){profile_str(p, f->name), f->kind, s->frames[i]};
	}
	return 0;
}
