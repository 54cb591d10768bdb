/* cmd_sample.c — the 'sample' subcommand. Placeholder until its issue lands. */
#include <stdio.h>
#include "cli/commands.h"

int lms_cmd_sample(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "lmscope sample: not implemented yet\n");
    return 2;
}
