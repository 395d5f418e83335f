rule php_obfuscated_eval
{
    meta:
        id = "shellward-yara-php-obfuscated-eval"
        title = "PHP Evaluates Decoded Or Assembled Code"
        description = "eval or assert over base64, gzinflate, str_rot13, strrev or hex layers, code assembled from chr() pieces, escaped bytes or a name with junk removed, a code-running function handed over as a callback by name, or a function called through $_: how PHP shells hide from review and signatures"
        level = "high"
        attack = "attack.persistence, attack.t1505.003, attack.defense_evasion, attack.t1027"
        author = "shellward"
    strings:
        $layers = /\b(eval|assert)\s*\(\s*@?\s*(base64_decode|gzinflate|gzuncompress|gzdecode|str_rot13|strrev|hex2bin|rawurldecode|convert_uudecode)\s*\(/ nocase
        $chr = /(chr\s*\(\s*\d{2,3}\s*\)\s*\.\s*){8,}/ nocase
        $escaped = /["'](\\x[0-9a-f]{2}|\\[0-7]{3}){12,}/ nocase
        $varfunc = /\$[a-z_0-9]{1,20}\s*=\s*["'](base64_decode|gzinflate|str_rot13|assert|eval|create_function)["']/ nocase
        $escaped_call = /["'](\\x[0-9a-f]{2}|\\[0-7]{3}){4,}["']\s*\(/ nocase
        $sink = /\b(eval|assert|create_function)\s*\(/ nocase
        $junk_sink = /str_replace\s*\(\s*["'][^"']{1,4}["']\s*,\s*["']["']\s*,\s*["'](a\W{1,3}s\W{1,3}s\W{1,3}e\W{1,3}r\W{1,3}t|e\W{1,3}v\W{1,3}a\W{1,3}l|s\W{1,3}y\W{1,3}s\W{1,3}t\W{1,3}e\W{1,3}m|c\W{1,3}r\W{1,3}e\W{1,3}a\W{1,3}t\W{1,3}e\W{1,3}_)/ nocase
        $callback_sink = /\b(register_shutdown_function|register_tick_function|call_user_func(_array)?|array_map|array_filter|array_walk|usort|uasort|uksort|ob_start|iterator_apply)\s*\(\s*([^;()]{0,40},\s*)?["'](assert|eval|system|passthru|shell_exec|create_function)["']/ nocase
        $underscore_call = /@?\$_{1,3}\s*\(\s*[$@a-z]/ nocase
        $php = "<?"
        $junk = /\$\w{1,20}\s*=\s*str_replace\s*\(\s*["'][^"']{1,8}["']\s*,\s*["']["']\s*,\s*["'][^"']{12,}["']\s*\)/ nocase
        $pieces = /["']e["']\s*;\s*\$\w{1,10}\s*=\s*["']val\s*\(/ nocase
        $xor_loop = /for\s*\(\s*\$\w+\s*=\s*0\s*;[^;]{1,40}strlen[^{]{1,80}\{[^}]{1,200}(\^|ord\s*\(|chr\s*\()[^}]{1,200}\}[^;]{0,200};[^?]{0,600}\b(eval|assert|create_function)\s*\(/ nocase
    condition:
        $php and ($layers or $varfunc or ($chr and #chr > 0) or ($escaped and $sink) or $escaped_call or $junk or $junk_sink or $callback_sink or $underscore_call or $pieces or $xor_loop)
}
