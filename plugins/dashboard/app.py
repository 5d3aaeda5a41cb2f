"""The web dashboard (the seeds' terminal look): sensor cards, node health,
network latency, buzzer buttons and per-node logs, rendered from the
readings JSON as one self-contained HTML page that keeps itself up to date.

The world imports nothing: this plugin can only turn text into text.
"""

import time
from html import escape

from page import HEAD, render_page


class DashboardLogic:
    def render(self, sensor_data: str) -> str:
        try:
            return render_page(sensor_data, time.time() * 1000)
        except Exception as e:  # a page, whatever the readings hold
            return (f"{HEAD}<main><p class=\"notice\">The dashboard could not be rendered: "
                    f"{escape(type(e).__name__)}: {escape(str(e))}</p></main></body></html>")
