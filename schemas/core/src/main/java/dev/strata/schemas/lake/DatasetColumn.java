package dev.strata.schemas.lake;

/** A column of an uploaded dataset: its name, its type and whether it may be null. */
public record DatasetColumn(String name, ColumnType type, boolean nullable) {}
