package dev.strata.registry;

import dev.strata.registry.LogRecord.ConfigDeleted;
import dev.strata.registry.LogRecord.ConfigEntry;
import dev.strata.registry.SchemaStore.Registration;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * The registry's operations: reads from the {@link SchemaStore}, writes planned by the store and
 * made durable through the log, one at a time.
 */
public final class Registry {

    private final SchemaStore store;
    private final Consumer<LogRecord> log;
    private final ReentrantLock writeLock = new ReentrantLock();

    /**
     * @param store the state, kept current by whoever reads the log
     * @param log appends a record durably and returns once the store has applied it
     */
    public Registry(SchemaStore store, Consumer<LogRecord> log) {
        this.store = store;
        this.log = log;
    }

    public SchemaStore store() {
        return store;
    }

    /** Registers a schema under a subject, or finds it there; returns its global id. */
    public int register(String subject, String schemaText) {
        writeLock.lock();
        try {
            Registration plan = store.planRegistration(subject, schemaText);
            plan.toAppend().ifPresent(log);
            return plan.id();
        } finally {
            writeLock.unlock();
        }
    }

    /** Sets the compatibility level of a subject, or (subject null) the global default. */
    public CompatibilityLevel setLevel(String subject, CompatibilityLevel level) {
        writeLock.lock();
        try {
            log.accept(new ConfigEntry(subject, level));
            return level;
        } finally {
            writeLock.unlock();
        }
    }

    /** Removes a subject's own level (it falls back to the global one); returns the removed level. */
    public CompatibilityLevel deleteLevel(String subject) {
        writeLock.lock();
        try {
            CompatibilityLevel previous =
                    store.subjectLevel(subject).orElseThrow(() -> RegistryError.subjectNotFound(subject));
            log.accept(new ConfigDeleted(subject));
            return previous;
        } finally {
            writeLock.unlock();
        }
    }
}
