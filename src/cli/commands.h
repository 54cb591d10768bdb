/* commands.h — every subcommand's entry point. Each takes the arguments after its own name
 * (argv[0] is the command name) and returns the process exit status: 0 success, 1 the work
 * failed (message printed), 2 bad usage. Only src/cli/ prints for humans or exits. */
#ifndef LMS_CLI_COMMANDS_H
#define LMS_CLI_COMMANDS_H

int lms_cmd_train(int argc, char **argv);     /* cmd_train.c */
int lms_cmd_sample(int argc, char **argv);    /* cmd_sample.c */
int lms_cmd_bench(int argc, char **argv);     /* cmd_bench.c */
int lms_cmd_tokenizer(int argc, char **argv); /* cmd_tokenizer.c: train | encode | decode | show */
int lms_cmd_data(int argc, char **argv);      /* cmd_data.c: prepare | stats | sample | grep | dedup | synth */
int lms_cmd_data_synth(int argc, char **argv); /* cmd_synth.c: the controlled tasks */
int lms_cmd_eval(int argc, char **argv);      /* cmd_eval.c: probe suites, per-domain loss, over training */
int lms_cmd_score(int argc, char **argv);     /* cmd_score.c: per-token log-probs of a text */
int lms_cmd_inspect(int argc, char **argv);   /* cmd_inspect.c: per-token loss, coloured or HTML; --compare */
int lms_cmd_shapes(int argc, char **argv);    /* cmd_shapes.c: label each suite's curve from eval results */
int lms_cmd_sweep(int argc, char **argv);     /* cmd_sweep.c: a grid of runs into a sweep dir + results.db */
int lms_cmd_fit(int argc, char **argv);       /* cmd_fit.c: scaling-law fits from a JSON Lines file of runs */
int lms_cmd_report(int argc, char **argv);    /* cmd_report.c: one self-contained HTML page from a sweep */
int lms_cmd_export(int argc, char **argv);    /* cmd_export.c: a model as a Hugging Face GPT-2 dir or an llm.c .bin */
int lms_cmd_serve(int argc, char **argv);     /* cmd_serve.c: OpenAI-compatible completions server */

#endif
