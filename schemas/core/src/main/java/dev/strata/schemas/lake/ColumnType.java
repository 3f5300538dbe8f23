package dev.strata.schemas.lake;

/** The types a column of an uploaded dataset can have, narrowest first. */
public enum ColumnType {
    BOOLEAN,
    LONG,
    DOUBLE,
    TIMESTAMP,
    STRING;

    /** The type both values fit, or empty when there is none but a string. */
    public static ColumnType widen(ColumnType a, ColumnType b) {
        if (a == b) {
            return a;
        }
        if ((a == LONG && b == DOUBLE) || (a == DOUBLE && b == LONG)) {
            return DOUBLE;
        }
        return STRING;
    }
}
