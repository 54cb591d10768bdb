/* cmd_data.c — the 'data' subcommand. Placeholder until its issue lands. */
#include <stdio.h>
#include "cli/commands.h"

int lms_cmd_data(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "lmscope data: not implemented yet\n");
    return 2;
}
