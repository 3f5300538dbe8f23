package dev.strata.batch.engine;

import java.io.IOException;
import java.util.concurrent.locks.LockSupport;

/**
 * Named points of a batch run where the crash tests stop it. Off unless the JVM runs with
 * {@code -Dstrata.batch.crash-at=POINT} (the run prints {@code STRATA-CRASH-POINT POINT} and waits to
 * be killed) or a test arms one in process ({@link #arm}: the run throws there). Points inside a
 * Flink job work where the job runs in this JVM (the local MiniCluster).
 */
public final class CrashPoints {

    public static final String PROPERTY = "strata.batch.crash-at";
    public static final String BANNER = "STRATA-CRASH-POINT ";

    private static volatile String armed;

    private CrashPoints() {}

    /** Makes the next {@link #reached} of {@code point} throw (null disarms). */
    public static void arm(String point) {
        armed = point;
    }

    public static void reached(String point) throws IOException {
        if (point.equals(armed)) {
            armed = null;
            throw new IOException("injected crash at " + point);
        }
        if (point.equals(System.getProperty(PROPERTY))) {
            System.out.println(BANNER + point);
            System.out.flush();
            while (true) { // only the kill ends this run
                LockSupport.park();
            }
        }
    }
}
