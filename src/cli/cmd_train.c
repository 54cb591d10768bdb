/* cmd_train.c — the 'train' subcommand. Placeholder until its issue lands. */
#include <stdio.h>
#include "cli/commands.h"

int lms_cmd_train(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "lmscope train: not implemented yet\n");
    return 2;
}
