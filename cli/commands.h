/* commands.h — one entry point per `syfosim SUBCOMMAND`.
 *
 * Each takes the arguments after the subcommand name (argv[0] is the
 * subcommand) and returns the process exit code: 0 ok, 1 runtime failure,
 * 2 bad input.  Errors are printed to stderr by the command itself.
 */
#ifndef SYFOSIM_CLI_COMMANDS_H
#define SYFOSIM_CLI_COMMANDS_H

int syf_cmd_run(int argc, char **argv);
int syf_cmd_diagnose(int argc, char **argv);
int syf_cmd_sweep(int argc, char **argv);
int syf_cmd_merge(int argc, char **argv);
int syf_cmd_calibrate(int argc, char **argv);
int syf_cmd_check(int argc, char **argv);
int syf_cmd_explain(int argc, char **argv);
int syf_cmd_estimate(int argc, char **argv);
int syf_cmd_power(int argc, char **argv);
int syf_cmd_report(int argc, char **argv);

#endif
