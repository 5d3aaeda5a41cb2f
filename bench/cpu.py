"""CPU benchmark: BME680 compensation formulas + JSON, as a sensor plugin does."""
import json


def compensate(adc_t: int, adc_p: int, adc_h: int) -> dict:
    par_t1, par_t2, par_t3 = 26000, 26000, 3
    var1 = (adc_t / 16384.0 - par_t1 / 1024.0) * par_t2
    var2 = ((adc_t / 131072.0 - par_t1 / 8192.0) ** 2) * (par_t3 * 16.0)
    t_fine = var1 + var2
    temp = t_fine / 5120.0
    v1 = t_fine / 2.0 - 64000.0
    v2 = v1 * v1 * (-7 / 131072.0) + v1 * 38 * 2.0
    v2 = v2 / 4.0 + 4216 * 65536.0
    v1 = (((-77) * v1 * v1) / 16384.0 + 5530 * v1) / 524288.0
    v1 = (1.0 + v1 / 32768.0) * 36385
    press = (1048576.0 - adc_p - v2 / 4096.0) * 6250.0 / max(v1, 1.0)
    hum = (adc_h - (708 * 16.0 + (-1.0 / 2.0) * temp)) * (0.01 * 1.0)
    return {"temperature": round(temp, 2), "pressure": round(press / 100.0, 2),
            "humidity": max(0.0, min(100.0, hum))}


total = 0
for i in range(200_000):
    r = compensate(500_000 + i % 1000, 400_000 + i % 500, 30_000 + i % 300)
    total += len(json.dumps(r))
print(total)
