/* `stackbench load URL [flags]`. */
#ifndef SB_LOAD_CLI_H
#define SB_LOAD_CLI_H

int cmd_load(int argc, char **argv);

#endif
