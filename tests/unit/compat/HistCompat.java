/*
 * HistCompat.java — reads salvo's encoded histograms with HdrHistogram (Java).
 *
 * salvo claims its histogram encoding is HdrHistogram's compressed V2 form;
 * this checks the claim with the reference implementation rather than with
 * salvo's own decoder. Given a base64 histogram it prints the statistics
 * HdrHistogram sees in it (in the same format as hist_compat_gen.c), then the
 * base64 of HdrHistogram re-encoding it, which salvo must read back.
 *
 * Usage: java -cp /usr/share/java/hdrhistogram.jar:. HistCompat BASE64
 */
import java.nio.ByteBuffer;
import java.util.Base64;
import org.HdrHistogram.Histogram;

public class HistCompat {
    public static void main(String[] args) throws Exception {
        byte[] bytes = Base64.getDecoder().decode(args[0]);
        Histogram h = Histogram.decodeFromCompressedByteBuffer(ByteBuffer.wrap(bytes), 0);
        System.out.printf("total=%d min=%d max=%d p50=%d p90=%d p99=%d p99.9=%d%n",
            h.getTotalCount(), h.getMinValue(), h.getMaxValue(),
            h.getValueAtPercentile(50.0), h.getValueAtPercentile(90.0),
            h.getValueAtPercentile(99.0), h.getValueAtPercentile(99.9));
        System.out.printf("mean=%.6e%n", h.getMean());

        ByteBuffer out = ByteBuffer.allocate(h.getNeededByteBufferCapacity());
        int len = h.encodeIntoCompressedByteBuffer(out);
        byte[] encoded = new byte[len];
        out.flip();
        out.get(encoded);
        System.out.println(Base64.getEncoder().encodeToString(encoded));
    }
}
