/* Simulated board internals shared by sim.c, sim_scenario.c, sim_record.c. */
#ifndef HV_SIM_IMPL_H
#define HV_SIM_IMPL_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include "hv_hal.h"
#include "sim_dev.h"

#define SIM_NPINS 28
#define SIM_UART_BUF 1024
#define SIM_MAX_DEVS 16
#define SIM_MAX_RAMPS 64
#define SIM_MAX_FAULTS 64

enum { ENV_TEMPERATURE, ENV_HUMIDITY, ENV_PRESSURE, ENV_GAS, ENV_LUX, ENV_CPU_TEMP, ENV_NFIELDS };
enum { FAULT_NACK, FAULT_TIMEOUT, FAULT_STUCK, FAULT_UNPLUG };

typedef struct {
    int field;
    double from_s, to_s, to;
} sim_ramp_t;

typedef struct {
    int kind;
    int addr;       /* I2C address, or -1 for the DHT22 */
    double from_s, to_s;
} sim_fault_t;

typedef struct {
    char kind[16]; /* "bme680", "ssd1306", ... */
    uint8_t addr;
    uint8_t calib[64];
    size_t calib_len; /* 0: the chip's typical set */
    hv_sim_dev_t *dev;
    int unplugged;       /* inside an unplug fault: absent, re-created on return */
    uint8_t stuck[64];   /* the last read, returned again during a stuck fault */
    size_t stuck_len;
} sim_chip_t;

/* One recorded bus transaction. */
typedef struct {
    char op[8]; /* "i2c", "dht22" */
    int addr;
    uint8_t *w, *r;
    size_t wlen, rlen;
    int rc;
    char err[128];
} sim_txn_t;

typedef struct {
    hv_hal_t base;
    pthread_mutex_t lock;
    /* environment: starting values and ramps over scenario time */
    double env0[ENV_NFIELDS];
    hv_sim_env_t env; /* now (what the chips read) */
    double cpu_temp_c; /* the simulated node's SoC */
    sim_ramp_t ramps[SIM_MAX_RAMPS];
    size_t nramps;
    sim_fault_t faults[SIM_MAX_FAULTS];
    size_t nfaults;
    sim_chip_t chips[SIM_MAX_DEVS];
    size_t nchips;
    int dht22_pin;
    /* time */
    double virtual_s; /* skipped by hv_hal_sim_advance */
    uint64_t t0_us; /* real clock at open */
    /* record / replay */
    FILE *record;
    sim_txn_t *replay;
    size_t nreplay, replay_pos;
    /* the rest of the board */
    uint32_t led_buf[HV_HAL_MAX_LEDS], led_out[HV_HAL_MAX_LEDS];
    int pin_mode[SIM_NPINS], pin_level[SIM_NPINS];
    uint8_t uart[SIM_UART_BUF];
    size_t uart_len;
    uint32_t baud;
    unsigned beeps, led_writes;
} sim_t;

#define SIM(h) ((sim_t *)(h))

/* Scenario time in seconds, and the clock the chips see (µs). */
double sim__now_s(sim_t *s);
uint64_t sim__now_us(sim_t *s);

/* Loads a scenario file into s (devices, calibration, environment, ramps,
 * faults). HV_OK or an error with "file:line:col: reason". */
int sim__scenario_load(sim_t *s, const char *path, char *err, size_t errlen);

/* Record/replay (sim_record.c). */
int sim__replay_load(sim_t *s, const char *path, char *err, size_t errlen);
void sim__record(sim_t *s, const char *op, int addr, const uint8_t *w, size_t wlen,
                 const uint8_t *r, size_t rlen, int rc, const char *err);
/* Answers a transaction from the recording: HV_OK/error as recorded, with
 * the recorded read bytes in r; a mismatch is an error naming both. */
int sim__replay(sim_t *s, const char *op, int addr, const uint8_t *w, size_t wlen, uint8_t *r,
                size_t rlen, char *err, size_t errlen);
void sim__replay_free(sim_t *s);

#endif
