/* The `harvester` command's shared helpers (main.c) and the daemon (run.c). */
#ifndef HV_CLI_H
#define HV_CLI_H

#include <stdio.h>

#include "hv_config.h"
#include "hv_engine.h"
#include "hv_hal.h"

#define HV_VERSION "0.1.0"

int cli__usage(FILE *f);
/* Opens the engine (runtime from HARVESTER_RUNTIME or the build); prints
 * the error. */
int cli__open_engine(hv_engine_t **ret, int verbose);
/* Takes --scenario/--record/--replay FILE out of argv (in place). */
int cli__sim_args(int *argc, char **argv, hv_hal_sim_opts_t *o);
hv_hal_t *cli__open_sim(const hv_hal_sim_opts_t *o);
/* The configuration by the seeds' lookup order; 0 or an exit status. */
int cli__load_config(const char *explicit_path, hv_config_t *cfg);
/* "--config FILE" or nothing; *bad when anything else. */
const char *cli__config_arg(int argc, char **argv, int *bad);

/* `harvester run`. */
int cli__cmd_run(int argc, char **argv);
/* `harvester status` and `harvester plugins` (plugins.c). */
int cli__cmd_status(int argc, char **argv);
int cli__cmd_plugins(int argc, char **argv);

#endif
