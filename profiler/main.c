/* SPDX-License-Identifier: MIT */
/* scorch: dispatches to one cmd_*.c per subcommand. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"

#define SCORCH_VERSION "0.1.0"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} cmds[] = {
	{ "record", cmd_record, "sample stacks of a command, processes or the whole system" },
	{ "convert", cmd_convert, "convert profiles between folded, pprof and SVG" },
	{ "diff", cmd_diff, "compare base and new profiles: report, flame graph, CI verdict" },
	{ "agent", cmd_agent, "profile continuously in windows: files, Pyroscope push" },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: scorch COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(out, "  %-10s %s\n", cmds[i].name, cmds[i].help);
	fprintf(out, "\n'scorch COMMAND --help' describes a command.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("scorch %s\n", SCORCH_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "scorch: error: unknown command '%s' (try 'scorch --help')\n", argv[1]);
	return 2;
}
