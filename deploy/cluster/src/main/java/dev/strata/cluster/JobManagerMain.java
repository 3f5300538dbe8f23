package dev.strata.cluster;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint;

/**
 * {@code strata flink-jobmanager}: a Flink session cluster's JobManager, run by Flink's own entry
 * point ({@link StandaloneSessionClusterEntrypoint}, what {@code jobmanager.sh} starts) with the
 * same arguments: {@code --configDir DIR -Dkey=value…}. Prints {@code READY flink-jobmanager URL}
 * once its REST API (and web UI) serves.
 */
public final class JobManagerMain {

    private JobManagerMain() {}

    public static void main(String[] args) throws Exception {
        Configuration conf = FlinkNode.configuration(args);
        String url = FlinkNode.restUrl(conf);
        FlinkNode.announceWhenReady("flink-jobmanager", url + " (Flink web UI, REST)", conf, "/overview", body -> true);
        StandaloneSessionClusterEntrypoint.main(args);
    }
}
