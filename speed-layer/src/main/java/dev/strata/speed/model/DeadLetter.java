package dev.strata.speed.model;

/** A record of {@code events} that could not be decoded: its raw bytes and why. A Flink POJO. */
public class DeadLetter {
    public byte[] key;
    public byte[] value;
    public String reason;
    public String detail;
    public String origin;

    public DeadLetter() {}

    public DeadLetter(byte[] key, byte[] value, String reason, String detail, String origin) {
        this.key = key;
        this.value = value;
        this.reason = reason;
        this.detail = detail;
        this.origin = origin;
    }
}
