"""The dashboards asset: rebuilds the offline HTML pages after each publish."""

import datetime as dt

import dagster as dg

from assets.ingest.assets import WAREHOUSE_POOL
from assets.publish import PUBLISHED_KEY
from assets.resources import WarehouseResource
from dashboards import build_dashboards

DASHBOARDS_KEY = dg.AssetKey(["dashboards", "pages"])


@dg.asset(
    key=DASHBOARDS_KEY,
    group_name="publish",
    pool=WAREHOUSE_POOL,
    deps=[PUBLISHED_KEY],
    description="Program-health dashboards: offline HTML pages with one local plotly.js.",
    kinds={"plotly", "html"},
)
def dashboards(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    settings = warehouse.settings()
    with warehouse.connect() as con:
        pages = build_dashboards(
            con,
            settings.dashboards_dir,
            as_of=settings.as_of,
            built_at=dt.datetime.now(dt.UTC),
            min_group_size=settings.min_group_size,
        )
    context.log.info(f"Dashboards: {settings.dashboards_dir / 'index.html'}")
    return dg.MaterializeResult(
        metadata={
            "index": dg.MetadataValue.path(str(settings.dashboards_dir / "index.html")),
            "pages": len(pages),
            "bytes": sum(p.stat().st_size for p in pages if p.suffix == ".html"),
        }
    )
