/* Placeholder until the forecast subcommand lands; owned by its feature work. */
#include "cli/cli.h"

int ah_cmd_forecast(int argc, char **argv)
{
	(void)argc;
	ah_cli_err(argv[0], "not available in this build yet");
	return AH_EXIT_INTERNAL;
}
