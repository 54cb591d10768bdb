/* cmd_inspect.c — the 'inspect' subcommand (not written yet). */
#include <stdio.h>

#include "cli/commands.h"

int lms_cmd_inspect(int argc, char **argv) {
    fprintf(stderr, "lmscope inspect: not implemented yet\n");
    return 2;
}
