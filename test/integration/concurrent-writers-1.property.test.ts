// Half 1 of the property of concurrent-writers.property.ts (two files: the two workers share it).
import { defineConcurrentWritersProperty } from './concurrent-writers.property.ts';

defineConcurrentWritersProperty(1);
