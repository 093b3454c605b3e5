package org.mailproxy.shell.jmx;

import java.util.Map;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanInfo;
import javax.management.MBeanOperationInfo;
import javax.management.MBeanParameterInfo;
import javax.management.NotCompliantMBeanException;
import javax.management.StandardMBean;

/**
 * A standard MBean whose MBeanInfo carries descriptions (JConsole shows them as tool tips):
 * {@code descriptions} maps attribute and operation names, and {@code op.pN} for parameter N of
 * an operation, to text.
 */
class DescribedMBean<T> extends StandardMBean {

    private final String description;
    private final Map<String, String> descriptions;

    DescribedMBean(T implementation, Class<T> type, String description, Map<String, String> descriptions)
            throws NotCompliantMBeanException {
        super(implementation, type);
        this.description = description;
        this.descriptions = descriptions;
    }

    @Override
    protected String getDescription(MBeanInfo info) {
        return description;
    }

    @Override
    protected String getDescription(MBeanAttributeInfo info) {
        return descriptions.getOrDefault(info.getName(), info.getName());
    }

    @Override
    protected String getDescription(MBeanOperationInfo info) {
        return descriptions.getOrDefault(info.getName(), info.getName());
    }

    @Override
    protected String getDescription(MBeanOperationInfo op, MBeanParameterInfo param, int sequence) {
        return descriptions.getOrDefault(op.getName() + ".p" + sequence, param.getDescription());
    }

    @Override
    protected String getParameterName(MBeanOperationInfo op, MBeanParameterInfo param, int sequence) {
        return descriptions.getOrDefault(op.getName() + ".n" + sequence, param.getName());
    }
}
