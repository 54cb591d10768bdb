/* cmd_shapes.c — the 'shapes' subcommand (not written yet). */
#include <stdio.h>

#include "cli/commands.h"

int lms_cmd_shapes(int argc, char **argv) {
    fprintf(stderr, "lmscope shapes: not implemented yet\n");
    return 2;
}
