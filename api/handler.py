"""Lambda entry point for API Gateway HTTP API (payload 2.0): mangum over `api.app:app`."""

from mangum import Mangum

from api.app import app

handler = Mangum(app, lifespan="off")
