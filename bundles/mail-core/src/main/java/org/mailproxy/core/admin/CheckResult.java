package org.mailproxy.core.admin;

import java.util.List;

/**
 * The outcome of a check or a reload.
 *
 * @param ok    whether the configuration is valid (and, for a reload, applied)
 * @param lines what to print, nginx-style for a check ({@code mailproxy: ... test is successful})
 */
public record CheckResult(boolean ok, List<String> lines) {

    public CheckResult {
        lines = List.copyOf(lines);
    }
}
