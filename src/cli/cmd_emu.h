/* cmd_emu.h */
#ifndef FX_CLI_CMD_EMU_H
#define FX_CLI_CMD_EMU_H
int fx_cmd_emu(int argc, char **argv);
#endif
