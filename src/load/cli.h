/* `stackbench load URL [flags]`. */
#ifndef SB_LOAD_CLI_H
#define SB_LOAD_CLI_H

int load_main(int argc, char **argv);

#endif
