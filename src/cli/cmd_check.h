/* cmd_check.h */
#ifndef FX_CLI_CMD_CHECK_H
#define FX_CLI_CMD_CHECK_H
int fx_cmd_check(int argc, char **argv);
#endif
