"""The chart tests' helm and render fixtures, for every test file of the chart."""

from tests.helm.test_chart import helm, render

__all__ = ["helm", "render"]
