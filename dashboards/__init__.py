"""Program-health dashboards: offline Plotly HTML pages built from the marts."""

from dashboards.build import build_dashboards

__all__ = ["build_dashboards"]
