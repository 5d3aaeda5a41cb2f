"""Aosong AHT20 driver, after its datasheet (I2C address 0x38).

The chip has no registers: a write is a command, a read returns its status
byte and, after a measurement, the result:

    byte 0     status: bit 7 busy, bit 3 calibrated
    bytes 1-5  20-bit humidity, then 20-bit temperature, big-endian
    byte 6     CRC-8 of bytes 0-5 (polynomial 0x31, initial value 0xFF)

Every failed transfer raises harvester.types.Err, as do a result that stays
busy and one whose CRC does not match (a corrupt reading is an error, not
a value).
"""

from __future__ import annotations

from harvester.imports import clock, i2c
from harvester.types import Err

STATUS_BUSY = 0x80
STATUS_CALIBRATED = 0x08

INITIALISE = bytes([0xBE, 0x08, 0x00])  # loads the calibration: needed if the CAL bit is clear
TRIGGER = bytes([0xAC, 0x33, 0x00])  # one measurement
INITIALISE_MS = 10
MEASUREMENT_MS = 80  # the datasheet's "wait 80 ms", then check the busy bit
BUSY_RETRY_MS = 10
BUSY_RETRIES = 10  # gives up 180 ms after the trigger

FRAME_LEN = 7
FULL_SCALE = 1 << 20  # 20-bit raw values

CRC_POLYNOMIAL = 0x31  # x^8 + x^5 + x^4 + 1
CRC_INIT = 0xFF


def crc8(data: bytes) -> int:
    """The AHT20's CRC-8 (MSB first, no final XOR)."""
    crc = CRC_INIT
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ CRC_POLYNOMIAL if crc & 0x80 else crc << 1) & 0xFF
    return crc


def read_status(address: int) -> int:
    return i2c.transfer_bytes(address, b"", 1)[0]


def ensure_calibrated(address: int) -> None:
    """A fresh part reports calibrated; one that lost it needs initialising."""
    if read_status(address) & STATUS_CALIBRATED:
        return
    i2c.transfer_bytes(address, INITIALISE, 0)
    clock.sleep_ms(INITIALISE_MS)
    if not read_status(address) & STATUS_CALIBRATED:
        raise Err("not calibrated after initialisation")


def read_frame(address: int) -> bytes:
    """Triggers a measurement and returns its 7-byte frame once not busy."""
    i2c.transfer_bytes(address, TRIGGER, 0)
    clock.sleep_ms(MEASUREMENT_MS)
    frame = i2c.transfer_bytes(address, b"", FRAME_LEN)
    for _ in range(BUSY_RETRIES):
        if not frame[0] & STATUS_BUSY:
            return frame
        clock.sleep_ms(BUSY_RETRY_MS)
        frame = i2c.transfer_bytes(address, b"", FRAME_LEN)
    if frame[0] & STATUS_BUSY:
        raise Err(f"still busy {MEASUREMENT_MS + BUSY_RETRIES * BUSY_RETRY_MS} ms after the trigger")
    return frame


def check_crc(frame: bytes) -> None:
    expected = crc8(frame[:6])
    if frame[6] != expected:
        raise Err(f"CRC mismatch: got 0x{frame[6]:02x}, computed 0x{expected:02x}")


def convert(frame: bytes) -> tuple[float, float]:
    """(temperature °C, relative humidity %) from a checked frame."""
    raw_humidity = (frame[1] << 12) | (frame[2] << 4) | (frame[3] >> 4)
    raw_temperature = ((frame[3] & 0x0F) << 16) | (frame[4] << 8) | frame[5]
    humidity = raw_humidity / FULL_SCALE * 100.0
    temperature = raw_temperature / FULL_SCALE * 200.0 - 50.0
    return temperature, humidity


def measure(address: int) -> tuple[float, float]:
    """One measurement: (temperature °C, relative humidity %)."""
    ensure_calibrated(address)
    frame = read_frame(address)
    check_crc(frame)
    return convert(frame)
