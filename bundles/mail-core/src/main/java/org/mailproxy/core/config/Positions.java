package org.mailproxy.core.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Strips file and line from values so that two builds of the same content compare equal. */
final class Positions {

    private Positions() {
    }

    static Object strip(Object value) {
        if (value instanceof ListenSpec l) {
            return l.withoutPosition();
        }
        if (value instanceof Directive d) {
            return d.withoutPosition();
        }
        if (value instanceof List<?> list) {
            List<Object> out = new ArrayList<>(list.size());
            for (Object o : list) {
                out.add(strip(o));
            }
            return out;
        }
        return value;
    }

    static Map<String, Object> strip(Map<String, ?> values) {
        Map<String, Object> out = new TreeMap<>();
        values.forEach((k, v) -> out.put(k, strip(v)));
        return out;
    }
}
