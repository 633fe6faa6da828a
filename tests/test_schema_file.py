from pathlib import Path

from strawberry.printer import print_schema

from api.schema import schema


def test_the_committed_schema_graphql_is_the_schema_the_code_serves():
    committed = (Path(__file__).resolve().parents[1] / "schema.graphql").read_text()
    assert committed == print_schema(schema) + "\n", "run `make schema` and commit schema.graphql"
