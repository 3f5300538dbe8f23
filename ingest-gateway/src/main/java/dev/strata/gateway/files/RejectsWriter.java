package dev.strata.gateway.files;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.strata.gateway.files.RowReader.Row;
import dev.strata.lake.LakeFiles;
import java.io.IOException;
import java.io.OutputStream;

/**
 * The rejects file of the lake, created at the first rejected row: one JSON object a line, at
 * most {@link #MAX_KEPT} of them, then one line counting the rest ({@code {"omitted": n}}),
 * so a file of bad rows is never kept whole.
 */
final class RejectsWriter implements AutoCloseable {

    /** Rejected rows kept in an upload's rejects file at most (with their reasons); the rest are counted. */
    static final int MAX_KEPT = 10_000;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final LakeFiles files;
    private final String file;
    private OutputStream out;
    private JsonGenerator json;
    private long written;
    private long omitted;

    RejectsWriter(LakeFiles files, String file) {
        this.files = files;
        this.file = file;
    }

    void write(Row row, String reason) throws IOException {
        if (written == MAX_KEPT) {
            omitted++;
            return;
        }
        written++;
        if (json == null) {
            out = files.create(file);
            json = JSON.createGenerator(out);
            json.setRootValueSeparator(new SerializedString("\n"));
        }
        json.writeStartObject();
        json.writeNumberField("line", row.line());
        json.writeStringField("reason", reason);
        if (row.original() instanceof String[] fields) {
            json.writeArrayFieldStart("fields");
            for (String f : fields) {
                json.writeString(f);
            }
            json.writeEndArray();
        } else if (row.original() instanceof JsonNode node) {
            json.writeFieldName("record");
            json.writeTree(node);
        } else if (row.original() instanceof String text) {
            json.writeStringField("text", text);
        }
        json.writeEndObject();
    }

    @Override
    public void close() throws IOException {
        if (json != null) {
            if (omitted > 0) {
                json.writeStartObject();
                json.writeNumberField("omitted", omitted);
                json.writeEndObject();
            }
            json.writeRaw('\n');
            json.close();
            out.close();
        }
    }
}
