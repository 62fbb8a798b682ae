"""Tables of member development. Every row but the tenant list carries ``tenant_id`` first."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Stage(StrEnum):
    """A candidate's way to admission, in order."""

    IDENTIFIED = "identified"
    POLITICAL_THEORY = "political_theory"  # attended the political-theory class for candidates
    EDUCATION_MET = "education_met"  # e.g. finished a junior-high supplementary class
    ADMITTED = "admitted"


class TenantRecord(Base):
    """The committees this subgraph knows, with their province (for province-wide reads)."""

    __tablename__ = "md_tenants"

    slug: Mapped[str] = mapped_column(String(64), primary_key=True)
    province_id: Mapped[str] = mapped_column(String(64))


class YearPlan(Base):
    """A committee's admission plan for a year; ``planned`` None means the 3% default."""

    __tablename__ = "md_plans"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("md_tenants.slug"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    members_at_start: Mapped[int] = mapped_column(Integer)
    planned: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Candidate(Base):
    """A person on the way to admission, counted in one plan year."""

    __tablename__ = "md_candidates"
    __table_args__ = (Index("ix_md_candidates_tenant_year_stage", "tenant_id", "year", "stage"),)

    tenant_id: Mapped[str] = mapped_column(ForeignKey("md_tenants.slug"), primary_key=True)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    full_name: Mapped[str] = mapped_column(String(200))
    stage: Mapped[str] = mapped_column(String(32))
    is_religious_believer: Mapped[bool] = mapped_column(Boolean, default=False)
    supplementary_class: Mapped[str | None] = mapped_column(String(200), nullable=True)
    class_completed: Mapped[bool] = mapped_column(Boolean, default=False)
