/* temporary */
#include "commands.h"
#include <stdio.h>
int syf_cmd_run(int argc, char **argv) { (void)argc; (void)argv; return 1; }
int syf_cmd_diagnose(int argc, char **argv) { (void)argc; (void)argv; return 1; }
__attribute__((weak)) int syf_cmd_estimate(int argc, char **argv) { (void)argc; (void)argv; return 1; }
