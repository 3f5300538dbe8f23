package dev.strata.gateway.files;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.strata.lake.LakeFiles;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The outcome of each file taken, as JSON beside its original in the raw zone:
 * {@code raw/<dataset>/<upload id>.json}. An original without one was not converted to the end
 * (a crash): it is converted again at the next start.
 */
final class RawOutcomes {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final LakeFiles files;

    RawOutcomes(LakeFiles files) {
        this.files = files;
    }

    private static String path(String dataset, String id) {
        return FileIngest.RAW + "/" + dataset + "/" + id + ".json";
    }

    void write(String dataset, String id, Outcome outcome) throws IOException {
        files.write(path(dataset, id), JSON.writeValueAsBytes(outcome));
    }

    /** The outcome of one upload, if it has one yet. */
    Optional<Outcome> read(String dataset, String id) throws IOException {
        String file = path(dataset, id);
        if (!files.exists(file)) {
            return Optional.empty();
        }
        try (InputStream in = files.open(file)) {
            return Optional.of(JSON.readValue(in, Outcome.class));
        }
    }

    /** The outcomes of a dataset's uploads, newest first. */
    List<Outcome> list(String dataset, int limit) throws IOException {
        List<String> names = new ArrayList<>();
        for (LakeFiles.Entry e : files.list(FileIngest.RAW + "/" + dataset)) {
            if (e.name().matches("[0-9].*\\.json")) {
                names.add(e.name());
            }
        }
        names.sort(Comparator.reverseOrder());
        List<Outcome> outcomes = new ArrayList<>();
        for (String name : names.subList(0, Math.min(limit, names.size()))) {
            try (InputStream in = files.open(FileIngest.RAW + "/" + dataset + "/" + name)) {
                outcomes.add(JSON.readValue(in, Outcome.class));
            }
        }
        return outcomes;
    }
}
