/* cmd_bench.c — the 'bench' subcommand. Placeholder until its issue lands. */
#include <stdio.h>
#include "cli/commands.h"

int lms_cmd_bench(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "lmscope bench: not implemented yet\n");
    return 2;
}
