// Half 2 of the 500-case property of concurrent-writers.property.ts (two files: the two workers share it).
import { defineConcurrentWritersProperty } from './concurrent-writers.property.ts';

defineConcurrentWritersProperty(2);
