/* cmd_eval.c — the 'eval' subcommand (not written yet). */
#include <stdio.h>

#include "cli/commands.h"

int lms_cmd_eval(int argc, char **argv) {
    fprintf(stderr, "lmscope eval: not implemented yet\n");
    return 2;
}
