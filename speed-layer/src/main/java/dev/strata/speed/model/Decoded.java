package dev.strata.speed.model;

/** What the events source yields for one record: an event, or a dead letter. A Flink POJO. */
public class Decoded {
    public IngestedEvent event;
    public DeadLetter deadLetter;

    public Decoded() {}

    public static Decoded event(IngestedEvent event) {
        Decoded d = new Decoded();
        d.event = event;
        return d;
    }

    public static Decoded deadLetter(DeadLetter deadLetter) {
        Decoded d = new Decoded();
        d.deadLetter = deadLetter;
        return d;
    }
}
