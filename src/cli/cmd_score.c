/* cmd_score.c — the 'score' subcommand (not written yet). */
#include <stdio.h>

#include "cli/commands.h"

int lms_cmd_score(int argc, char **argv) {
    fprintf(stderr, "lmscope score: not implemented yet\n");
    return 2;
}
