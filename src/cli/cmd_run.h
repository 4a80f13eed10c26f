/* cmd_run.h - `fixturectl run`: the operator loop of a station. */
#ifndef FX_CLI_CMD_RUN_H
#define FX_CLI_CMD_RUN_H
int fx_cmd_run(int argc, char **argv);
#endif
