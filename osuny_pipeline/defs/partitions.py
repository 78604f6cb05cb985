"""One partition per website, keyed by its stable id (never a name)."""

from dagster import DynamicPartitionsDefinition

websites = DynamicPartitionsDefinition(name="websites")
