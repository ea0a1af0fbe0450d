#include "cmd.h"
#include "log.h"
int cmd_record(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	log_error("record: not built yet");
	return 2;
}
