/* SPDX-License-Identifier: MIT */
/*
 * The subcommands.  Each takes the arguments after its name (argv[0] is the
 * subcommand) and returns the process exit status:
 * 0 success, 1 the subcommand's own "no" (e.g. diff found a regression),
 * 2 usage or runtime error; record returns the profiled command's status.
 */
#ifndef SCORCH_PROFILER_CMD_H
#define SCORCH_PROFILER_CMD_H

int cmd_record(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_agent(int argc, char **argv);

#endif
