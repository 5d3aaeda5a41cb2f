/*
 * harvester: command-line entry point.
 *
 *   harvester py <file.py | -c CODE | -m MODULE> [args]   run Python in the sandbox
 *   harvester wit <file.wit>                                print its worlds and signatures
 *   harvester build <plugin-dir> [-o out.wasm] [--wit F]    build a plugin file
 *   harvester invoke <plugin.wasm> <iface.func> [json-args] call a plugin's export
 *   harvester run [--config FILE]                           the daemon
 *   harvester check-config FILE                             validate a config + its permissions
 *   harvester status [--config FILE]                        plugin status of a running daemon
 *   harvester plugins [--config FILE]                       plugins, worlds, grants, denials
 *   harvester toml2json                                     toml-test decoder (stdin -> stdout)
 *   harvester prepare                                       AOT-compile the runtime now
 *   harvester version
 */
#define _GNU_SOURCE
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "hv_config.h"
#include "hv_engine.h"
#include "hv_log.h"
#include "hv_manager.h"
#include "hv_toml.h"
#include "hv_plugin.h"
#include "hv_wit.h"
#include "cli.h"

#ifndef HV_RUNTIME_DIR
#define HV_RUNTIME_DIR "build/runtime"
#endif

static const char *runtime_dir(void)
{
    const char *env = getenv("HARVESTER_RUNTIME");
    return env && *env ? env : HV_RUNTIME_DIR;
}

int cli__open_engine(hv_engine_t **ret, int verbose)
{
    char err[1024];
    hv_engine_opts_t o = {runtime_dir(), NULL, NULL, verbose};
    int rc = hv_engine_open(&o, ret, err, sizeof err);
    if (rc != HV_OK)
        fprintf(stderr, "harvester: %s\n", err);
    return rc;
}

int cli__usage(FILE *f)
{
    fprintf(f, "usage: harvester py <file.py | -c CODE | -m MODULE | -> [args...]\n"
               "       harvester wit <file.wit>\n"
               "       harvester build <plugin-dir> [-o out.wasm] [--wit file.wit]\n"
               "       harvester invoke [SIM] [--permissions FILE] <plugin.wasm> "
               "<interface.function> [json-args]\n"
               "       harvester run [--config FILE] [SIM]\n"
               "         SIM: --scenario FILE.toml --record FILE.jsonl --replay FILE.jsonl\n"
               "       harvester check-config FILE\n"
               "       harvester status [--config FILE]\n"
               "       harvester plugins [--config FILE]\n"
               "       harvester toml2json < file.toml\n"
               "       harvester prepare\n"
               "       harvester version\n");
    return 2;
}

/* Runs CPython's command line inside the sandbox. A script's directory is
 * mounted read-only at /app; nothing else of the host is visible. */
static int cmd_py(int argc, char **argv)
{
    if (argc < 1)
        return cli__usage(stderr);
    char dir[PATH_MAX], guest_file[PATH_MAX + 8], real[PATH_MAX];
    hv_instance_opts_t o = {0};
    const char **gargv = calloc((size_t)argc + 2, sizeof *gargv);
    if (gargv == NULL)
        return 1;
    gargv[0] = "python";
    for (int i = 0; i < argc; i++)
        gargv[i + 1] = argv[i];
    if (argv[0][0] != '-') {
        if (realpath(argv[0], real) == NULL) {
            fprintf(stderr, "harvester: py: can't open file '%s'\n", argv[0]);
            free(gargv);
            return 2;
        }
        snprintf(dir, sizeof dir, "%s", real);
        snprintf(guest_file, sizeof guest_file, "/app/%s", basename(real));
        o.mounts[0].guest = "/app";
        o.mounts[0].host = dirname(dir);
        o.nmounts = 1;
        gargv[1] = guest_file;
    }
    o.argv = gargv;
    o.stdin_from_host = 1;
    const char *mem = getenv("HARVESTER_MEMORY_MB"), *dl = getenv("HARVESTER_DEADLINE_MS");
    o.memory_limit_mb = mem ? (uint32_t)strtoul(mem, NULL, 10) : 0;
    o.deadline_ms = dl ? (uint32_t)strtoul(dl, NULL, 10) : 0;

    int status = 1;
    hv_engine_t *eng;
    hv_instance_t *inst;
    if (cli__open_engine(&eng, 0) != HV_OK)
        goto out_free_argv;
    int rc = hv_instance_new(eng, &o, &inst);
    if (rc != HV_OK) {
        fprintf(stderr, "harvester: py: cannot create instance: %s\n", hv_strerror(rc));
        goto out_close_engine;
    }
    rc = hv_instance_main(inst, &status);
    if (rc != HV_OK) {
        fprintf(stderr, "harvester: py: %s\n", hv_strerror(rc));
        status = 1;
    }
    hv_instance_free(inst);
out_close_engine:
    hv_engine_close(eng);
out_free_argv:
    free(gargv);
    return status;
}

static const char *data_dir(void)
{
    const char *env = getenv("HARVESTER_DATA_DIR");
    return env && *env ? env : HV_SOURCE_DIR;
}

static int cmd_wit(int argc, char **argv)
{
    if (argc != 1)
        return cli__usage(stderr);
    char err[1024];
    hv_wit_doc_t *doc;
    if (hv_wit_parse_file(argv[0], &doc, err, sizeof err) != HV_OK) {
        fprintf(stderr, "harvester: %s\n", err);
        return 1;
    }
    int rc = hv_wit_print(stdout, doc) == 0 ? 0 : 1;
    hv_wit_free(doc);
    return rc;
}

static int cmd_build(int argc, char **argv)
{
    const char *dir = NULL, *out = NULL;
    char wit[4096];
    snprintf(wit, sizeof wit, "%s/wit/plugin.wit", data_dir());
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
            out = argv[++i];
        else if (strcmp(argv[i], "--wit") == 0 && i + 1 < argc)
            snprintf(wit, sizeof wit, "%s", argv[++i]);
        else if (dir == NULL && argv[i][0] != '-')
            dir = argv[i];
        else
            return cli__usage(stderr);
    }
    if (dir == NULL)
        return cli__usage(stderr);
    hv_engine_t *eng;
    if (cli__open_engine(&eng, 0) != HV_OK)
        return 1;
    char err[8192], path[4096];
    int rc = hv_plugin_build(eng, dir, out, wit, path, sizeof path, err, sizeof err);
    hv_engine_close(eng);
    if (rc != HV_OK) {
        fprintf(stderr, "harvester: build: %s\n", err);
        return 1;
    }
    printf("built %s\n", path);
    return 0;
}

/* Takes --scenario/--record/--replay FILE out of argv (in place). */
int cli__sim_args(int *argc, char **argv, hv_hal_sim_opts_t *o)
{
    int n = 0;
    for (int i = 0; i < *argc; i++) {
        const char **slot = strcmp(argv[i], "--scenario") == 0 ? &o->scenario
                            : strcmp(argv[i], "--record") == 0 ? &o->record
                            : strcmp(argv[i], "--replay") == 0 ? &o->replay
                                                                : NULL;
        if (slot == NULL) {
            argv[n++] = argv[i];
            continue;
        }
        if (i + 1 == *argc)
            return -1;
        *slot = argv[++i];
    }
    *argc = n;
    return 0;
}

hv_hal_t *cli__open_sim(const hv_hal_sim_opts_t *o)
{
    char err[1024];
    hv_hal_t *hal = hv_hal_sim_open(o, err, sizeof err);
    if (hal == NULL)
        fprintf(stderr, "harvester: %s\n", err);
    return hal;
}

/* Calls one export of a plugin on the simulated board; prints JSON. */
static int cmd_invoke(int argc, char **argv)
{
    hv_hal_sim_opts_t so = {11, NULL, NULL, NULL};
    if (cli__sim_args(&argc, argv, &so) != 0)
        return cli__usage(stderr);
    /* --permissions FILE: run under the daemon's guard, as the plugin
     * named by the file's stem; without it the plugin is unrestricted. */
    const char *perms_path = NULL;
    if (argc >= 2 && strcmp(argv[0], "--permissions") == 0) {
        perms_path = argv[1];
        argc -= 2;
        argv += 2;
    }
    if (argc < 2 || argc > 3)
        return cli__usage(stderr);
    char err[8192];
    hv_perms_t *perms = NULL;
    if (perms_path != NULL && hv_perms_open(perms_path, &perms, err, sizeof err) != HV_OK) {
        fprintf(stderr, "harvester: invoke: %s\n", err);
        hv_perms_free(perms);
        return 2;
    }
    hv_engine_t *eng;
    if (cli__open_engine(&eng, 0) != HV_OK) {
        hv_perms_free(perms);
        return 1;
    }
    hv_hal_t *hal = cli__open_sim(&so);
    if (hal == NULL) {
        hv_engine_close(eng);
        hv_perms_free(perms);
        return 1;
    }
    char stem[256];
    const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    snprintf(stem, sizeof stem, "%s", base);
    if (strlen(stem) > 5 && strcmp(stem + strlen(stem) - 5, ".wasm") == 0)
        stem[strlen(stem) - 5] = '\0';
    const char *dl = getenv("HARVESTER_DEADLINE_MS");
    hv_plugin_opts_t o = {0};
    o.eng = eng;
    o.hal = hal;
    o.state_dir = getenv("HARVESTER_STATE_DIR");
    o.config_json = getenv("HARVESTER_PLUGIN_CONFIG");
    o.deadline_ms = dl ? (uint32_t)strtoul(dl, NULL, 10) : 0;
    o.perms = perms;
    o.perm_name = stem;
    hv_plugin_t *p = NULL;
    char *json = NULL;
    int rc = hv_plugin_load(argv[0], &o, &p, err, sizeof err);
    if (rc == HV_OK)
        rc = hv_plugin_call_json(p, argv[1], argc > 2 ? argv[2] : NULL, &json, err, sizeof err);
    if (rc == HV_OK)
        printf("%s\n", json);
    else
        fprintf(stderr, "harvester: invoke: %s\n", err);
    free(json);
    hv_plugin_free(p);
    hv_hal_sim_free(hal);
    hv_engine_close(eng);
    hv_perms_free(perms);
    return rc == HV_OK ? 0 : 1;
}

/* Loads the configuration by the seeds' lookup order; 0 or exit status. */
int cli__load_config(const char *explicit_path, hv_config_t *cfg)
{
    char path[4096], err[8192];
    if (!hv_config_find(explicit_path, path, sizeof path)) {
        hv_config_defaults(cfg);
        return 0;
    }
    if (hv_config_load(path, cfg, err, sizeof err) != HV_OK) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    return 0;
}

static int cmd_check_config(int argc, char **argv)
{
    if (argc != 1)
        return cli__usage(stderr);
    hv_config_t cfg;
    char err[8192];
    if (hv_config_load(argv[0], &cfg, err, sizeof err) != HV_OK) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    printf("%s: ok (%zu plugin tables, role %s, node %s, port %d, backend %s)\n", argv[0],
           cfg.nplugins, cfg.role, cfg.node_id, cfg.http_port, cfg.backend);
    hv_perm_table_t t;
    int rc = hv_perm_table_load(cfg.permissions, &t, err, sizeof err);
    if (rc == HV_OK) {
        printf("%s: ok (%zu plugin entries; a plugin without one is denied all hardware)\n",
               cfg.permissions, t.n);
        hv_perm_table_free(&t);
    } else {
        fprintf(stderr, "%s\n", err);
    }
    hv_config_free(&cfg);
    return rc == HV_OK ? 0 : 2;
}

const char *cli__config_arg(int argc, char **argv, int *bad)
{
    *bad = 0;
    if (argc == 0)
        return NULL;
    if (argc == 2 && strcmp(argv[0], "--config") == 0)
        return argv[1];
    *bad = 1;
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return cli__usage(stderr);
    if (strcmp(argv[1], "py") == 0)
        return cmd_py(argc - 2, argv + 2);
    if (strcmp(argv[1], "wit") == 0)
        return cmd_wit(argc - 2, argv + 2);
    if (strcmp(argv[1], "build") == 0)
        return cmd_build(argc - 2, argv + 2);
    if (strcmp(argv[1], "invoke") == 0)
        return cmd_invoke(argc - 2, argv + 2);
    if (strcmp(argv[1], "run") == 0)
        return cli__cmd_run(argc - 2, argv + 2);
    if (strcmp(argv[1], "check-config") == 0)
        return cmd_check_config(argc - 2, argv + 2);
    if (strcmp(argv[1], "status") == 0)
        return cli__cmd_status(argc - 2, argv + 2);
    if (strcmp(argv[1], "plugins") == 0)
        return cli__cmd_plugins(argc - 2, argv + 2);
    if (strcmp(argv[1], "toml2json") == 0)
        return hv_toml_cli_toml2json();
    if (strcmp(argv[1], "prepare") == 0) {
        hv_engine_t *eng;
        if (cli__open_engine(&eng, 1) != HV_OK)
            return 1;
        hv_engine_close(eng);
        return 0;
    }
    if (strcmp(argv[1], "version") == 0) {
        printf("harvester %s\n", HV_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
        return cli__usage(stdout), 0;
    fprintf(stderr, "harvester: unknown command '%s'\n", argv[1]);
    return cli__usage(stderr);
}
