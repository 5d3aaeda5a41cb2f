/*
 * Solomon SSD1306 128x64 OLED controller on I2C (0x3C / 0x3D), after its
 * datasheet (rev 1.1, section 8.1.5 and chapter 9/10).
 *
 * A write is a control byte (Co bit 7, D/C# bit 6) and then: Co = 0, the
 * rest of the write is commands (D/C# = 0) or GDDRAM data (D/C# = 1);
 * Co = 1, one byte, then another control byte. A command's argument bytes
 * may come in later control blocks or later writes (drivers send each
 * byte in its own transfer); data in the middle of a command drops it.
 *
 * Data go to GDDRAM at the column/page pointer, which then moves as the
 * addressing mode says: horizontal and vertical wrap inside the 0x21 / 0x22
 * window; page mode wraps the column from 127 back to the column start
 * address set by 0x00-0x1F (the datasheet's wording), page unchanged.
 * Scrolling commands are parsed and stored but do not animate. Reads
 * return the status byte (bit 6: display off).
 *
 * The rendered panel (hv_sim_ssd1306_png) is the common 128x64 module,
 * whose glass is mounted so that the usual initialisation (segment remap
 * A1, COM scan C8) shows column 0 / page 0 at the top left: A0 mirrors it
 * left-right and C0 upside-down, as on the real module. Start line and
 * display offset roll the rows up; rows past the multiplex ratio are dark.
 * Lit pixels are 64 + 191 x contrast / 255 (0x7F -> 159, 0xFF -> 255),
 * dark ones 0; display off renders black; A5 lights every pixel; A7
 * inverts. The charge pump setting is stored, not required for light.
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "sim_dev_impl.h"

#define W 128
#define H 64
#define PAGES 8

typedef struct {
    hv_sim_dev_t base;
    uint8_t fb[W * PAGES];
    int display_on, inverse, entire_on, contrast;
    int addr_mode; /* 0 horizontal, 1 vertical, 2 page */
    int col, page;
    int col_start, col_end, page_start, page_end; /* 0x21 / 0x22 window */
    int pm_col_start;                             /* page mode: 0x00-0x1F */
    int start_line, offset, mux, seg_remap, com_dec;
    uint8_t clock, precharge, com_pins, vcomh, charge_pump, fade, zoom;
    uint8_t hscroll[7], vscroll[6], vscroll_area[2];
    int scroll_active;
    uint8_t cmd[8]; /* a command waiting for its arguments */
    int cmd_len, cmd_need;
} ssd1306_t;

static int nargs(uint8_t c)
{
    switch (c) {
    case 0x81:
    case 0x20:
    case 0xA8:
    case 0xD3:
    case 0xD5:
    case 0xD9:
    case 0xDA:
    case 0xDB:
    case 0x8D:
    case 0x23:
    case 0xD6:
        return 1;
    case 0x21:
    case 0x22:
    case 0xA3:
        return 2;
    case 0x29:
    case 0x2A:
        return 5;
    case 0x26:
    case 0x27:
        return 6;
    default:
        return 0;
    }
}

static void execute(ssd1306_t *s)
{
    const uint8_t *c = s->cmd;
    uint8_t op = c[0];
    if (op <= 0x0F) {
        s->col = s->pm_col_start = (s->pm_col_start & 0x70) | op;
    } else if (op <= 0x1F) {
        s->col = s->pm_col_start = ((op & 0x07) << 4) | (s->pm_col_start & 0x0F);
    } else if (op >= 0x40 && op <= 0x7F) {
        s->start_line = op & 0x3F;
    } else if (op >= 0xB0 && op <= 0xB7) {
        s->page = op & 0x07;
    } else if ((op & 0xF0) == 0xC0) {
        s->com_dec = (op & 0x08) != 0;
    } else {
        switch (op) {
        case 0x20:
            if ((c[1] & 3) != 3) /* 11b is invalid */
                s->addr_mode = c[1] & 3;
            break;
        case 0x21:
            s->col_start = c[1] & 0x7F, s->col_end = c[2] & 0x7F;
            s->col = s->col_start;
            break;
        case 0x22:
            s->page_start = c[1] & 0x07, s->page_end = c[2] & 0x07;
            s->page = s->page_start;
            break;
        case 0x23:
            s->fade = c[1];
            break;
        case 0x26:
        case 0x27:
            memcpy(s->hscroll, c, 7);
            break;
        case 0x29:
        case 0x2A:
            memcpy(s->vscroll, c, 6);
            break;
        case 0x2E:
            s->scroll_active = 0;
            break;
        case 0x2F:
            s->scroll_active = 1;
            break;
        case 0x81:
            s->contrast = c[1];
            break;
        case 0x8D:
            s->charge_pump = c[1];
            break;
        case 0xA0:
        case 0xA1:
            s->seg_remap = op & 1;
            break;
        case 0xA3:
            memcpy(s->vscroll_area, c + 1, 2);
            break;
        case 0xA4:
        case 0xA5:
            s->entire_on = op & 1;
            break;
        case 0xA6:
        case 0xA7:
            s->inverse = op & 1;
            break;
        case 0xA8:
            s->mux = c[1] & 0x3F;
            break;
        case 0xAE:
        case 0xAF:
            s->display_on = op & 1;
            break;
        case 0xD3:
            s->offset = c[1] & 0x3F;
            break;
        case 0xD5:
            s->clock = c[1];
            break;
        case 0xD6:
            s->zoom = c[1];
            break;
        case 0xD9:
            s->precharge = c[1];
            break;
        case 0xDA:
            s->com_pins = c[1];
            break;
        case 0xDB:
            s->vcomh = c[1];
            break;
        default:
            break; /* 0xE3 NOP and unknown commands */
        }
    }
}

static void command_byte(ssd1306_t *s, uint8_t b)
{
    if (s->cmd_need == 0) {
        s->cmd[0] = b;
        s->cmd_len = 1;
        s->cmd_need = nargs(b);
    } else {
        s->cmd[s->cmd_len++] = b;
        s->cmd_need--;
    }
    if (s->cmd_need == 0)
        execute(s);
}

static void data_byte(ssd1306_t *s, uint8_t b)
{
    s->cmd_need = 0;
    s->fb[s->page * W + s->col] = b;
    switch (s->addr_mode) {
    case 0:
        if (++s->col > s->col_end || s->col >= W) {
            s->col = s->col_start;
            if (++s->page > s->page_end || s->page >= PAGES)
                s->page = s->page_start;
        }
        break;
    case 1:
        if (++s->page > s->page_end || s->page >= PAGES) {
            s->page = s->page_start;
            if (++s->col > s->col_end || s->col >= W)
                s->col = s->col_start;
        }
        break;
    default:
        if (++s->col >= W)
            s->col = s->pm_col_start;
        break;
    }
}

static int ssd1306_write(hv_sim_dev_t *d, const uint8_t *buf, size_t len, uint64_t now_us)
{
    ssd1306_t *s = (ssd1306_t *)d;
    (void)now_us;
    if (len > 0 && buf == NULL)
        return HV_EINVAL;
    size_t i = 0;
    while (i < len) {
        uint8_t ctrl = buf[i++];
        int data = (ctrl & 0x40) != 0;
        size_t end = ctrl & 0x80 ? (i < len ? i + 1 : i) : len;
        for (; i < end; i++) {
            if (data)
                data_byte(s, buf[i]);
            else
                command_byte(s, buf[i]);
        }
    }
    return HV_OK;
}

static int ssd1306_read(hv_sim_dev_t *d, uint8_t *buf, size_t len, uint64_t now_us)
{
    ssd1306_t *s = (ssd1306_t *)d;
    (void)now_us;
    if (len > 0 && buf == NULL)
        return HV_EINVAL;
    if (len > 0)
        memset(buf, s->display_on ? 0x00 : 0x40, len);
    return HV_OK;
}

static void ssd1306_free(hv_sim_dev_t *d)
{
    free(d);
}

static const hv_sim_dev_ops_t ssd1306_ops = {"ssd1306", ssd1306_write, ssd1306_read, ssd1306_free};

hv_sim_dev_t *hv_sim_ssd1306_new(uint8_t addr)
{
    ssd1306_t *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->base.ops = &ssd1306_ops;
    s->base.addr = addr;
    /* reset values (datasheet chapter 9 / 10) */
    s->contrast = 0x7F;
    s->addr_mode = 2;
    s->col_end = W - 1;
    s->page_end = PAGES - 1;
    s->mux = 63;
    s->clock = 0x80;
    s->precharge = 0x22;
    s->com_pins = 0x12;
    s->vcomh = 0x20;
    s->charge_pump = 0x10;
    return &s->base;
}

void hv_sim_ssd1306_view(hv_sim_dev_t *d, hv_sim_ssd1306_view_t *ret)
{
    ssd1306_t *s = (ssd1306_t *)d;
    ret->fb = s->fb;
    ret->display_on = s->display_on;
    ret->inverted = s->inverse;
    ret->contrast = s->contrast;
}

/* ---- PNG ------------------------------------------------------------------ */

static void render(const ssd1306_t *s, uint8_t *img /* H rows of 1 + W bytes */)
{
    uint8_t lit = (uint8_t)(64 + (191 * s->contrast + 127) / 255);
    int rows = s->mux < 15 ? 16 : s->mux + 1;
    for (int y = 0; y < H; y++) {
        uint8_t *row = img + y * (1 + W);
        row[0] = 0; /* filter: none */
        /* glass row y is COM 63 - y; COM c shows row counter r */
        int com = H - 1 - y;
        int r = s->com_dec ? rows - 1 - com : com;
        for (int x = 0; x < W; x++) {
            int on = 0;
            if (s->display_on && r >= 0 && r < rows) {
                int ram_row = (r + s->start_line + s->offset) & (H - 1);
                int col = s->seg_remap ? x : W - 1 - x;
                int bit = (s->fb[(ram_row >> 3) * W + col] >> (ram_row & 7)) & 1;
                on = s->entire_on ? 1 : bit ^ s->inverse;
            }
            row[1 + x] = on ? lit : 0;
        }
    }
}

static uint8_t *put32be(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8),
    p[3] = (uint8_t)v;
    return p + 4;
}

/* Writes a chunk whose len data bytes are already at p + 8. */
static uint8_t *chunk(uint8_t *p, const char *type, uint32_t len)
{
    put32be(p, len);
    memcpy(p + 4, type, 4);
    uLong crc = crc32(0L, p + 4, (uInt)(4 + len));
    return put32be(p + 8 + len, (uint32_t)crc);
}

int hv_sim_ssd1306_png(hv_sim_dev_t *d, uint8_t **ret_png, size_t *ret_len)
{
    const ssd1306_t *s = (const ssd1306_t *)d;
    enum { RAW = H * (1 + W) };
    uint8_t img[RAW];
    render(s, img);
    uLongf zlen = compressBound(RAW);
    size_t cap = 8 + (12 + 13) + (12 + zlen) + 12;
    uint8_t *png = malloc(cap);
    if (png == NULL)
        return HV_ENOMEM;
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    memcpy(png, sig, 8);
    uint8_t *p = png + 8, *ihdr = p + 8;
    put32be(ihdr, W);
    put32be(ihdr + 4, H);
    ihdr[8] = 8;  /* bit depth */
    ihdr[9] = 0;  /* grayscale */
    ihdr[10] = 0; /* deflate */
    ihdr[11] = 0; /* adaptive filtering */
    ihdr[12] = 0; /* no interlace */
    p = chunk(p, "IHDR", 13);
    if (compress2(p + 8, &zlen, img, RAW, 9) != Z_OK) {
        free(png);
        return HV_ENOMEM;
    }
    p = chunk(p, "IDAT", (uint32_t)zlen);
    p = chunk(p, "IEND", 0);
    *ret_png = png;
    *ret_len = (size_t)(p - png);
    return HV_OK;
}
