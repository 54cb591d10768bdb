/* cmd_tokenizer.c — the 'tokenizer' subcommand. Placeholder until its issue lands. */
#include <stdio.h>
#include "cli/commands.h"

int lms_cmd_tokenizer(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "lmscope tokenizer: not implemented yet\n");
    return 2;
}
