rule php_obfuscated_eval
{
    meta:
        id = "shellward-yara-php-obfuscated-eval"
        title = "PHP Evaluates Decoded Or Assembled Code"
        description = "eval or assert over base64, gzinflate, str_rot13, strrev or hex layers, or code assembled from chr() pieces or escaped bytes: how PHP shells hide from review and signatures"
        level = "high"
        attack = "attack.persistence, attack.t1505.003, attack.defense_evasion, attack.t1027"
        author = "shellward"
    strings:
        $layers = /\b(eval|assert)\s*\(\s*@?\s*(base64_decode|gzinflate|gzuncompress|gzdecode|str_rot13|strrev|hex2bin|rawurldecode|convert_uudecode)\s*\(/ nocase
        $chr = /(chr\s*\(\s*\d{2,3}\s*\)\s*\.\s*){8,}/ nocase
        $escaped = /["'](\\x[0-9a-f]{2}|\\[0-7]{3}){12,}/ nocase
        $varfunc = /\$[a-z_0-9]{1,20}\s*=\s*["'](base64_decode|gzinflate|str_rot13|assert|eval|create_function)["']/ nocase
        $php = "<?" 
        $junk = /\$\w{1,20}\s*=\s*str_replace\s*\(\s*["'][^"']{1,8}["']\s*,\s*["']["']\s*,\s*["'][^"']{12,}["']\s*\)/ nocase
        $pieces = /["']e["']\s*;\s*\$\w{1,10}\s*=\s*["']val\s*\(/ nocase
        $xor_loop = /for\s*\(\s*\$\w+\s*=\s*0\s*;[^;]{1,40}strlen[^{]{1,80}\{[^}]{1,200}(\^|ord\s*\(|chr\s*\()[^}]{1,200}\}[^;]{0,200};[^?]{0,600}\b(eval|assert|create_function)\s*\(/ nocase
    condition:
        $php and ($layers or $varfunc or ($chr and #chr > 0) or $escaped or $junk or $pieces or $xor_loop)
}
