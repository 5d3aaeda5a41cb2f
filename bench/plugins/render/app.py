"""A stand-in dashboard: parses the readings JSON and renders an HTML table."""
import html
import json


class DashboardLogic:
    def render(self, sensor_data: str) -> str:
        readings = json.loads(sensor_data)
        rows = "".join(
            f"<tr><td>{html.escape(r['sensor_id'])}</td><td>{r['value']:.2f}</td></tr>"
            for r in readings)
        return f"<table>{rows}</table>"
